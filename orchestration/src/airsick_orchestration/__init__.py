"""airsick orchestration."""
