"""Numbers several layers need."""

# ImageNet mean and std of the RGB channels on the 0..255 scale, as the data
# preprocessors normalise uint8 batches.
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
