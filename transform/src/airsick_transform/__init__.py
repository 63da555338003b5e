"""airsick transform."""
