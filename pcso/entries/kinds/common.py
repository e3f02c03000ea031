"""Pieces several kinds share: people and vehicle rows from a form or JSON, and their JSON schemas."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from ...models import LOCATION_ROLES, ORGANISATION_ROLES, VEHICLE_ROLES, LinkRole, OrganisationType, normalise_vrm
from ...models.asb import VRM_ALLOWED
from ...numbers import RecordId, record_id
from ..data import LocationInput, OrganisationInput, PersonInput, VehicleInput
from .base import text

LONG_TEXT = 20_000


def long_text(**kwargs) -> fields.String:
    """Free text in JSON: optional unless required=True, at most LONG_TEXT characters."""
    kwargs.setdefault("load_default", None)
    return fields.String(validate=validate.Length(max=LONG_TEXT), allow_none=not kwargs.get("required"), **kwargs)


def short_text(limit: int, **kwargs) -> fields.String:
    if not kwargs.get("required"):
        kwargs.setdefault("load_default", None)
        kwargs.setdefault("allow_none", True)
    return fields.String(validate=validate.Length(max=limit), **kwargs)


def enum(enum_cls, **kwargs) -> fields.Enum:
    if not kwargs.get("required"):
        kwargs.setdefault("load_default", None)
        kwargs.setdefault("allow_none", True)
    return fields.Enum(enum_cls, by_value=True, **kwargs)


class PersonSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120),
                         metadata={"example": "Jordan Lee"})
    role = fields.Enum(LinkRole, by_value=True, required=True, metadata={"example": "suspect"})
    ROLES: tuple[LinkRole, ...] = tuple(LinkRole)
    person_id = RecordId(load_default=None, allow_none=True,
                         metadata={"description": "An existing person record, picked from a search"})
    born_on = fields.Date(load_default=None, allow_none=True, metadata={"example": "2009-04-17"})
    description = short_text(300, metadata={"example": "Grey hoodie, about 16"})

    @validates("role")
    def allowed_role(self, value, **kwargs):
        if value not in self.ROLES:
            raise ValidationError("Must be one of: " + ", ".join(role.value for role in self.ROLES))

    @post_load
    def make(self, data, **kwargs) -> PersonInput:
        return PersonInput(name=data["name"].strip(), role=data["role"], person_id=data["person_id"],
                           born_on=data["born_on"], description=text(data["description"]))


class VehicleSchema(Schema):
    vrm = fields.String(required=True, validate=validate.Length(min=2, max=12), metadata={"example": "AB12 CDE"})
    make = short_text(40, metadata={"example": "Ford"})
    model = short_text(40, metadata={"example": "Fiesta"})
    colour = short_text(30, metadata={"example": "Silver"})
    role = fields.Enum(LinkRole, by_value=True, load_default=LinkRole.MENTIONED,
                       validate=validate.OneOf(VEHICLE_ROLES), metadata={"example": "seen"})

    @validates("vrm")
    def valid_vrm(self, value, **kwargs):
        if not VRM_ALLOWED.match(normalise_vrm(value)):
            raise ValidationError("A registration is 2 to 8 letters and numbers, e.g. AB12 CDE")

    @post_load
    def make_vehicle(self, data, **kwargs) -> VehicleInput:
        return VehicleInput(vrm=data["vrm"], make=text(data["make"]), model=text(data["model"]),
                            colour=text(data["colour"]), role=data["role"])


class LocationLinkSchema(Schema):
    """A place in an entry: an existing record (location_id, from /locations/suggest) or an address line."""

    address = fields.String(required=True, validate=validate.Length(min=1, max=200),
                            metadata={"example": "12 Acacia Avenue, M32 0DH",
                                      "description": "House number and street, or a place's name; the postcode "
                                                     "may be in it or in `postcode`"})
    postcode = short_text(10, metadata={"example": "M32 0DH"})
    role = fields.Enum(LinkRole, by_value=True, load_default=LinkRole.SCENE, validate=validate.OneOf(LOCATION_ROLES),
                       metadata={"example": "scene"})
    location_id = RecordId(load_default=None, allow_none=True,
                           metadata={"description": "An existing location, picked from a search"})

    @post_load
    def make_place(self, data, **kwargs) -> LocationInput:
        return LocationInput(address=data["address"].strip(), role=data["role"], postcode=text(data["postcode"]),
                             location_id=data["location_id"])


class OrganisationLinkSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"example": "The Bridge Inn"})
    org_type = fields.Enum(OrganisationType, by_value=True, load_default=None, allow_none=True,
                           metadata={"example": "licensed_premises", "description": "For a new record"})
    role = fields.Enum(LinkRole, by_value=True, load_default=LinkRole.INVOLVED,
                       validate=validate.OneOf(ORGANISATION_ROLES), metadata={"example": "venue"})
    organisation_id = RecordId(load_default=None, allow_none=True,
                               metadata={"description": "An existing organisation, picked from a search"})

    @post_load
    def make_organisation(self, data, **kwargs) -> OrganisationInput:
        return OrganisationInput(name=data["name"].strip(), role=data["role"], org_type=data["org_type"],
                                 organisation_id=data["organisation_id"])


def places_field(**kwargs) -> fields.List:
    return fields.List(fields.Nested(LocationLinkSchema), load_default=list, validate=validate.Length(max=20),
                       **kwargs)


def organisations_field(**kwargs) -> fields.List:
    return fields.List(fields.Nested(OrganisationLinkSchema), load_default=list, validate=validate.Length(max=20),
                       **kwargs)


def people_field(schema: type[PersonSchema], **kwargs) -> fields.List:
    """A list of people; `schema` is a PersonSchema whose ROLES are the kind's (ASB: involvement roles)."""
    return fields.List(fields.Nested(schema), load_default=list, validate=validate.Length(max=20), **kwargs)


def vehicles_field(**kwargs) -> fields.List:
    return fields.List(fields.Nested(VehicleSchema), load_default=list, validate=validate.Length(max=20), **kwargs)


def people_from_form(rows) -> tuple[PersonInput, ...]:
    """The filled rows of a form's people list (an empty row is skipped)."""
    picked = []
    for row in (r.form for r in rows if r.form.name.data):
        person_id = row.person_id.data
        picked.append(PersonInput(
            name=row.name.data.strip(), role=LinkRole(row.role.data),
            person_id=record_id(person_id),
            born_on=row.born_on.data, description=text(row.description.data)))
    return tuple(picked)


def vehicles_from_form(rows) -> tuple[VehicleInput, ...]:
    return tuple(VehicleInput(vrm=row.vrm.data, make=text(row.make.data), model=text(row.model.data),
                              colour=text(row.colour.data), role=LinkRole(row.role.data or LinkRole.MENTIONED))
                 for row in (r.form for r in rows if r.form.vrm.data))


def load_links(form, people: list, vehicles: list) -> None:
    """Fill a form's people and vehicle rows from links, keeping one empty row of each to add to."""
    while len(form.people) < len(people) + 1:
        form.people.append_entry()
    while len(form.vehicles) < len(vehicles) + 1:
        form.vehicles.append_entry()
    for row, item in zip(form.people, people, strict=False):
        row.form.person_id.data, row.form.name.data = str(item.person.id), item.person.full_name
        row.form.role.data, row.form.born_on.data = item.role.value, item.person.born_on
        row.form.description.data = item.note
    for row, item in zip(form.vehicles, vehicles, strict=False):
        vehicle = item.vehicle
        row.form.vrm.data, row.form.make.data = vehicle.vrm, vehicle.make
        row.form.model.data, row.form.colour.data = vehicle.model, vehicle.colour
        row.form.role.data = item.role.value


def named_links(people, vehicles) -> list:
    """(record input, role, note, position) for the services to link: people first, then vehicles."""
    return ([(person, person.role, person.description, i) for i, person in enumerate(people)]
            + [(vehicle, vehicle.role, None, 100 + i) for i, vehicle in enumerate(vehicles)])


def victim_named(people) -> bool:
    return any(person.role == LinkRole.VICTIM for person in people)


def linked_view(entry) -> dict:
    """The entry's people and vehicles as its JSON schema reads them (json_view of ASB and intelligence)."""
    return {
        "people": [PersonInput(name=item.person.full_name, role=item.role, person_id=item.person.id,
                               born_on=item.person.born_on, description=item.note) for item in entry.people_links],
        "vehicles": vehicles_view(entry),
    }


def vehicles_view(entry) -> list[VehicleInput]:
    return [VehicleInput(vrm=item.vehicle.vrm, make=item.vehicle.make, model=item.vehicle.model,
                         colour=item.vehicle.colour, role=item.role) for item in entry.vehicle_links]


def places_view(entry) -> dict:
    """The entry's places and organisations as the API reads them (every kind: pcso/entries/schema.py)."""
    return {
        "places": [LocationInput(address=item.location.address, role=item.role, postcode=item.location.postcode,
                                 location_id=item.location.id) for item in entry.location_links],
        "organisations": [OrganisationInput(name=item.organisation.name, role=item.role,
                                            org_type=item.organisation.org_type,
                                            organisation_id=item.organisation.id)
                          for item in entry.organisation_links],
    }
