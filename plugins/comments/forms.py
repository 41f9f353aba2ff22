"""The comment form and the moderation form."""

from wtforms import BooleanField, EmailField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, Length, Optional, ValidationError

from blog.forms import Form


class CommentForm(Form):
    body = TextAreaField(
        "Comment",
        validators=[DataRequired("Write something before sending.")],
        description="You can use *emphasis*, **bold**, `code`, > quotes and [links](https://…).",
    )
    name = StringField("Name", validators=[DataRequired("Tell us your name."), Length(max=100)])
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Your email is needed; it is never shown."),
            Email("That does not look like an email address.", check_deliverability=False),
            Length(max=254),
        ],
        description="Never shown.",
    )
    website = StringField(
        "Website",
        validators=[
            Optional(),
            URL(require_tld=False, message="Give the full address, e.g. https://example.com"),
            Length(max=300),
        ],
    )
    remember = BooleanField("Remember my name, email and website on this browser")

    def validate_website(self, field):
        # WTForms' URL() takes any scheme with "//" ("javascript://x%0Aalert(1)" too).
        if field.data and not field.data.strip().lower().startswith(("http://", "https://")):
            raise ValidationError("Give an address that starts with https:// or http://")

    parent_id = HiddenField()
    started = HiddenField()  # signed time the form was served: bots post at once
    # The honeypot: hidden from people by CSS and from screen readers by aria-hidden;
    # bots that fill every field fill it.
    homepage = StringField("Leave this field empty")
    submit = SubmitField("Post Comment")


class ModerationForm(Form):
    """Only a CSRF token: the buttons and checkboxes are read from the request."""
