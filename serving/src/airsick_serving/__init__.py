"""airsick serving."""
