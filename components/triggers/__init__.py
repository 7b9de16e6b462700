"""Continuous-training triggers: a watcher that turns monitoring results, new data and schedules into
retraining runs, one at a time per model, each recorded with why it fired (see components/monitoring)."""
