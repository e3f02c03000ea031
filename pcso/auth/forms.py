from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    collar_number = StringField(
        "Collar number", validators=[DataRequired("Enter your collar number"), Length(max=16)],
        render_kw={"autocomplete": "username", "autocapitalize": "characters", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password"), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class EmptyForm(FlaskForm):
    """CSRF protection for POST buttons with no fields."""


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app", validators=[DataRequired("Enter the 6-digit code"), Length(max=12)],
        description="6 digits, a new one every 30 seconds",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*",
                   "spellcheck": "false"},
    )


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password"),
                                                            Length(max=200)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField("New password", validators=[DataRequired("Enter a new password"), Length(max=200)],
                        description="At least 12 characters. Three or four unrelated words are easy to remember "
                                    "and hard to guess. Not your collar number or name.",
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("New password again", validators=[DataRequired("Enter the new password again"),
                                                              EqualTo("new", "The two new passwords differ")],
                            render_kw={"autocomplete": "new-password"})
