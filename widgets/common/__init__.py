"""What every dock shares: fields, replay bar, plot export, lattice and mosaic views."""
