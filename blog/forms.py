"""The core's forms. Plugins may import from here to match the house fields."""

from flask_wtf import CSRFProtect, FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
    widgets,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from blog.config import LANGUAGE_TAG
from blog.models import ROLES, STATUS_LABELS
from blog.sitetime import site_zone, zone_names

# Every POST, the core's and the plugins', must carry the session's token.
csrf = CSRFProtect()


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3+ wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


USERNAME_RULE = Regexp(
    r"^[\w.-]+$", message="Use letters, digits, dots, dashes or underscores, no spaces."
)
PASSWORD_RULE = Length(min=8, max=200, message="Use at least 8 characters.")


class LoginForm(FlaskForm):
    username = StringField("User name or email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Remember me")
    submit = SubmitField("Log in")


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), PASSWORD_RULE])
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Set password")


class SetupForm(FlaskForm):
    site_title = StringField("Site title", validators=[DataRequired(), Length(max=200)])
    username = StringField(
        "User name", validators=[DataRequired(), Length(min=2, max=60), USERNAME_RULE]
    )
    email = EmailField(
        "Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired(), PASSWORD_RULE])
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Create the site")


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        known = {choice.value for choice in self.choices}
        for value in self.data or []:
            if value not in known:
                raise ValidationError(f"Unknown category (id {value}).")


def alt_text_field() -> StringField:
    return StringField(
        "Alt text",
        validators=[Length(max=500)],
        description="What the image shows, for readers who cannot see it.",
    )


class PostForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            InputRequired("Give the post a title."),
            Length(max=300),
        ],
        filters=[lambda value: value.strip() if value else value],
    )
    body = TextAreaField("Body", validators=[Length(max=1_000_000)])
    excerpt = TextAreaField("Excerpt", validators=[Length(max=2000)])
    slug = StringField(
        "Slug",
        validators=[Optional(), Length(max=200)],
        description="The post's address: /slug/. Left empty, it is made from the title.",
    )
    categories = CheckboxListField("Categories", coerce=int, validate_choice=False)
    tags = StringField(
        "Tags", validators=[Length(max=1000)], description="Separate tags with commas."
    )
    status = SelectField(
        "Status",
        choices=choices(list(STATUS_LABELS.items())),
        default="draft",
        description="Unlisted: anyone with the address can read it; it is in no list or feed.",
    )
    published_at = DateTimeLocalField(
        "Publish date",  # and the site's time zone, added in __init__
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
        description="Empty: when you press Publish. A future date schedules the post.",
    )
    type = SelectField(
        "Type", choices=choices([("post", "Post"), ("page", "Page")]), default="post"
    )
    sticky = BooleanField("Stick to the top of the home page")
    # The post.version this copy was opened at: a save from a stale copy is refused.
    version = HiddenField()
    image = FileField("Image file")
    image_alt = alt_text_field()
    upload = SubmitField("Upload image")
    preview = SubmitField("Preview")
    preview_page = SubmitField("Preview as published")
    save_draft = SubmitField("Save draft")
    publish = SubmitField("Publish")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.published_at.label.text = f"Publish date ({site_zone().key})"

    def validate_version(self, field):
        if field.data and not field.data.isdigit():
            raise ValidationError("The editor sent a broken version number; reload the page.")

    def validate_title(self, field):
        if not field.data:
            raise ValidationError("Give the post a title.")


class UploadForm(FlaskForm):
    image = FileField("Image file")
    alt_text = alt_text_field()
    submit = SubmitField("Upload")


class ButtonForm(FlaskForm):
    """Nothing but the CSRF token: for a button that acts (restore, discard, share)."""


class DeleteForm(ButtonForm):
    """A delete button's form."""

    submit = SubmitField("Delete")


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    slug = StringField("Slug", validators=[Optional(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    parent = SelectField("Parent", coerce=int, default=0)
    submit = SubmitField("Save category")


class UserForm(FlaskForm):
    username = StringField(
        "User name", validators=[DataRequired(), Length(min=2, max=60), USERNAME_RULE]
    )
    display_name = StringField("Display name", validators=[Length(max=120)])
    email = EmailField(
        "Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    role = SelectField("Role", choices=choices((role, role.title()) for role in ROLES))
    password = PasswordField(
        "Password", validators=[Optional(), PASSWORD_RULE], description="Leave empty to keep."
    )
    submit = SubmitField("Save user")


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", validators=[Length(max=120)])
    email = EmailField(
        "Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password to save.")]
    )
    new_password = PasswordField(
        "New password", validators=[Optional(), PASSWORD_RULE], description="Leave empty to keep."
    )
    confirm = PasswordField(
        "New password again",
        validators=[EqualTo("new_password", message="The new passwords differ.")],
    )
    submit = SubmitField("Save profile")


class SettingsForm(FlaskForm):
    title = StringField("Site title", validators=[DataRequired(), Length(max=200)])
    tagline = StringField("Tagline", validators=[Length(max=300)])
    url = URLField(
        "Site address",
        validators=[DataRequired(), URL(require_tld=False), Length(max=300)],
        description="The public address, used for links in feeds and emails.",
    )
    posts_per_page = IntegerField(
        "Posts per page", validators=[InputRequired(), NumberRange(min=1, max=100)]
    )
    language = StringField(
        "Language",
        validators=[
            DataRequired(),
            Regexp(
                LANGUAGE_TAG.pattern + "$",
                message='Give a language tag such as "en", "fr" or "pt-BR".',
            ),
        ],
        description="What the posts are written in, for browsers, screen readers and search "
        'engines: a language tag such as "en", "fr" or "pt-BR".',
    )
    timezone = SelectField(
        "Time zone",
        choices=lambda: choices((name, name.replace("_", " ")) for name in zone_names()),
        description="Dates are shown, and publish dates typed, in this zone.",
    )
    submit = SubmitField("Save settings")
