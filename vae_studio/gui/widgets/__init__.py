"""Reusable drawing widgets: images, image grids, class colours."""
