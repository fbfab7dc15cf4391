"""The demo data folder: bundled published data, demo organisations and users."""
