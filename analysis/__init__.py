"""Rate-distortion analysis as a pure library (plain lists and dicts in, plain results out; no DB).

- ``analysis.rd``: per-(codec, rate point) averages over images, as CompressAI's eval does.
- ``analysis.bd_rate``: Bjontegaard delta rate and delta quality of a test curve against an anchor.
- ``analysis.compressai_json``: CompressAI's results JSON format, out and in, and the published
  Kodak figures of the zoo models shipped in ``analysis/reference_data``.
"""
