from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length

from ..api.tokens import LIFETIMES_DAYS
from ..models import TokenScope


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the token a name"), Length(max=80)],
                       description="What it is for, so you can tell your tokens apart: “Laptop sync”",
                       render_kw={"autocomplete": "off"})
    scope = RadioField("What it may do", default=TokenScope.READ.value,
                       choices=[(scope.value, scope.label) for scope in TokenScope],
                       description="Read only can look things up; read and write can also log and change entries.")
    days = RadioField("Expires after", default="30", choices=[(str(days), f"{days} days") for days in LIFETIMES_DAYS])
