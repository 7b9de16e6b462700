"""The feature store: one Feast definition of every looked-up feature, for training and for serving."""
