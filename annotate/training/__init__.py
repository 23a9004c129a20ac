"""Training the pre-annotation model on gold: training data (DocBins), spaCy config, `annotate train`, comparison.

With preannotate/, the only package that imports spaCy.
"""
