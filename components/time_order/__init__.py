"""The time-ordered contract between a model's training window and the batch it is judged on."""
