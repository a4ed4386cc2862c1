"""The RG comparator dock and its plots."""
