"""Image sets and imported IQA data sets: uploads, normalization, import, scoring, export."""
