"""Export forms: why the data is leaving and who receives it (DPA 2018 s.62 logs both)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

PURPOSE_MIN = 10


class EntryExportForm(FlaskForm):
    purpose = TextAreaField(
        "Purpose", validators=[DataRequired("Say why this is being exported"),
                               Length(PURPOSE_MIN, 500, f"Give the purpose in {PURPOSE_MIN} to 500 characters")],
        description="Why it is needed, e.g. “Evidence pack for ASB case review, Trafford CSP, ref 24/117”",
        render_kw={"rows": 3, "autocomplete": "off"})
    recipient = StringField(
        "Recipient", validators=[DataRequired("Say who will receive it"),
                                 Length(3, 200, "Give the recipient in 3 to 200 characters")],
        description="The person and organisation it goes to, e.g. “J Smith, Trafford Council ASB team”",
        render_kw={"autocomplete": "off"})

    field_order = ("format", "purpose", "recipient")

    def validate(self, extra_validators=None) -> bool:
        for name in ("purpose", "recipient"):
            field = getattr(self, name)
            if field.data:
                field.data = " ".join(field.data.split())  # one line in the file and the audit log
        return super().validate(extra_validators)


class ListExportForm(EntryExportForm):
    format = RadioField("Format", choices=[("csv", "CSV (spreadsheet)"), ("geojson", "GeoJSON (map)")],
                        default="csv", validators=[DataRequired("Choose a format")])


class ExportDecisionForm(FlaskForm):
    """A second person's decision on an OFFICIAL-SENSITIVE export: approve, or refuse with a reason."""

    comment = TextAreaField("Comment for the requester", validators=[
        Length(max=1000, message="Keep the comment under 1,000 characters")],
        description="Required when you refuse it: say why.", render_kw={"rows": 3, "autocomplete": "off"})
