"""The public event contract: the only thing that crosses service lines.

Every event is a CloudEvents 1.0 event following the NL GOV profile, carried on Kafka with the
CloudEvents Kafka binding in binary mode. ``registry`` maps each ``type`` to its data model.
"""
