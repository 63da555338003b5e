"""airsick training."""
