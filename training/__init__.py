"""Training, evaluation and export of vidcolor's colorization models.

Split as data / losses / metrics / loops; shares vidcolor's one LAB definition.
"""
