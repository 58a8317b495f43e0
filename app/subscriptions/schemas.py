"""Bodies of the subscription endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.outbox import EVENT_KINDS


class SubscriptionRequestSchema(Schema):
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "http(s) webhook; private and loopback targets are refused"},
    )
    kinds = fields.List(
        fields.String(validate=validate.OneOf(EVENT_KINDS)),
        required=True,
        validate=validate.Length(min=1, max=len(EVENT_KINDS)),
    )
    public_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=20)),
        load_default=list,
        validate=validate.Length(max=1000),
    )
    identifiers = fields.List(
        fields.String(validate=validate.Length(min=1, max=300)),
        load_default=list,
        validate=validate.Length(max=1000),
        metadata={"description": "USCCs, ID numbers or names, each naming one party"},
    )
    mine = fields.Boolean(
        load_default=False,
        truthy={True},
        falsy={False},
        metadata={"description": "every party the caller's department has records about"},
    )


class DeliverySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    idempotency_key = fields.String()
    status = fields.String(metadata={"enum": ["pending", "delivered", "dead"]})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)


class SubscriptionSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    kinds = fields.List(fields.String())
    entities = fields.List(fields.String())
    mine = fields.Boolean()
    active = fields.Boolean()
    created_at = fields.DateTime()
    secret = fields.String(metadata={"description": "signing secret: in the creation answer only"})
    deliveries = fields.List(fields.Nested(DeliverySchema), metadata={"description": "recent"})


class SubscriptionListSchema(Schema):
    items = fields.List(fields.Nested(SubscriptionSchema))
