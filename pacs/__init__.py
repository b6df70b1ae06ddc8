"""PACS import over DICOMweb (QIDO-RS search, WADO-RS retrieve)."""
