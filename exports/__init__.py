"""Exports in the field's formats (labelme, COCO, NIfTI, DICOM SEG/SR, CSV) as background tasks."""
