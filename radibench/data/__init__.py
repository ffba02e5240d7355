"""The benchmark data: LIDC-like CT datasets (generated, or imported from a DICOM folder), made
once, checksummed and cached outside asv's folders, with their baseline files beside them."""
