"""Parquet schemas, stated explicitly: no type is ever guessed from the data."""

from __future__ import annotations

import pyarrow as pa

from pipeline.registry import registry

STR_LIST = pa.list_(pa.string())
# The typed attributes of an object come from the family registry (read once, at import).
ATTRIBUTES = pa.struct([(a, STR_LIST) for a in registry().scene_attributes])
OBJECT = pa.struct(
    [
        ("object_id", pa.string()),
        ("source", pa.string()),
        ("raw_name", pa.string()),
        ("name", pa.string()),
        ("synset", pa.string()),
        ("bbox", pa.list_(pa.float64())),
        ("area", pa.float64()),
        ("iscrowd", pa.bool_()),
        ("coco_category", pa.string()),
        ("coco_category_id", pa.int64()),
        ("duplicate_of", pa.string()),
        ("attributes", ATTRIBUTES),
        ("raw_attributes", STR_LIST),
        ("multi_valued", STR_LIST),
        ("evidence_ids", STR_LIST),
    ]
)
RELATION = pa.struct(
    [
        ("relation_id", pa.string()),
        ("subject_id", pa.string()),
        ("predicate", pa.string()),
        ("raw_predicate", pa.string()),
        ("object_id", pa.string()),
        ("synset", pa.string()),
    ]
)
CAPTION = pa.struct([("caption_id", pa.string()), ("text", pa.string())])
SCENE = pa.schema(
    [
        ("scene_id", pa.string()),
        ("image_source", pa.string()),
        ("image_id", pa.int64()),
        ("coco_id", pa.int64()),
        ("vg_id", pa.int64()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("file_name", pa.string()),
        ("url", pa.string()),
        ("license", pa.int64()),
        ("evidence_ids", STR_LIST),
        ("objects", pa.list_(OBJECT)),
        ("relations", pa.list_(RELATION)),
        ("captions", pa.list_(CAPTION)),
    ]
)

DISTRACTOR = pa.struct([("option", pa.string()), ("source", pa.string()), ("object_ids", STR_LIST)])
MCQ = pa.schema(
    [
        ("id", pa.string()),
        ("schema_version", pa.string()),
        ("image_source", pa.string()),
        ("image_id", pa.int64()),
        ("scene_id", pa.string()),
        ("file_name", pa.string()),
        ("url", pa.string()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("aspect", pa.string()),
        ("form", pa.string()),
        ("question", pa.string()),
        ("options", STR_LIST),
        ("answer", pa.string()),
        ("answer_index", pa.int64()),
        ("answer_value", pa.string()),
        ("referent_name", pa.string()),
        ("referent_object_ids", STR_LIST),
        ("referent_bbox", pa.list_(pa.float64())),
        ("evidence_ids", STR_LIST),
        ("distractor_sources", pa.list_(DISTRACTOR)),
        ("template_id", pa.string()),
        ("split", pa.string()),
        ("pope_setting", pa.string()),
        ("group_id", pa.string()),
        ("rotation", pa.int64()),
    ]
)

TURN = pa.struct([("from", pa.string()), ("value", pa.string())])
CLAIM = pa.struct(
    [
        ("aspect", pa.string()),
        ("value", pa.string()),
        ("referent_name", pa.string()),
        ("referent_object_ids", STR_LIST),
        ("false_value", pa.string()),
    ]
)
CONV = pa.schema(
    [
        ("id", pa.string()),
        ("schema_version", pa.string()),
        ("image_source", pa.string()),
        ("image_id", pa.int64()),
        ("scene_id", pa.string()),
        ("file_name", pa.string()),
        ("url", pa.string()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("kind", pa.string()),
        ("conversations", pa.list_(TURN)),
        ("evidence_ids", pa.list_(STR_LIST)),
        ("turn_facts", pa.list_(CLAIM)),
        ("sentences", STR_LIST),
        ("sentence_evidence", pa.list_(STR_LIST)),
        ("sentence_facts", pa.list_(pa.list_(CLAIM))),
        ("split", pa.string()),
    ]
)
