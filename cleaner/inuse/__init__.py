"""Sources of images in use by running workloads (fail closed)."""
