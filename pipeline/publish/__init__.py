"""Publishing: Hub-ready Parquet shards, the dataset card, validation, upload and exports.

The build calls `shards.write_config_shards` (with `images.image_feature_rows` when an images
folder is given), then `card.write_dataset_card`; the manifest is written last so that it
lists the card and the shards.
"""
