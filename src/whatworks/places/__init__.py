"""Places: local authorities, regions and the DfE statistical neighbours."""
