"""The core's forms. Plugins may import from here to match the house fields."""

import functools
from urllib.parse import urlsplit

from flask import abort, current_app, request
from flask_login import current_user
from flask_wtf import CSRFProtect, FlaskForm
from flask_wtf.file import FileField, FileRequired
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
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from blog import accounts
from blog.config import LANGUAGE_TAG
from blog.database import db
from blog.models import REVIEW_STATUSES, ROLES, STATUS_LABELS, Category
from blog.names import make_slug
from blog.rendering import BODY_MAX, without_control_characters
from blog.sitetime import site_zone, zone_names

# Every POST, the core's and the plugins', must carry the session's token, except the
# public forms below.
csrf = CSRFProtect()


def refuse_cross_site() -> None:
    """403 for a form another site's page sent: browsers say where a POST comes from.

    The Origin's host (and port) must be the one the request was sent to, or the one in
    [site] url; its scheme is not compared, since behind a proxy that ends HTTPS the app
    may see http:// for a page the browser loaded over https://.
    """
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None and fetched_from not in ("same-origin", "none"):
        abort(403, "This form was sent from another site; it is taken only from this site.")
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not sent by a browser's cross-site form (they all send Origin on POST)
    ours = {request.host.lower(), urlsplit(current_app.config["SITE"]["url"]).netloc.lower()}
    if urlsplit(origin).netloc.lower() not in ours:
        abort(403, "This form was sent from another site; it is taken only from this site.")


def public_form(view):
    """Mark a view that takes a form anonymous visitors send from pages any cache may keep.

    Such a page sets no cookie, so its form carries no session token. Instead the post
    must come from this site's own pages: the browser's Origin and Sec-Fetch-Site
    headers, which another site's page cannot set, say so (OWASP's "verify the origin
    with standard headers"). A logged-in user's page carries the session token as
    every other form does, and it is checked too.
    """

    @functools.wraps(view)
    def checked(*args, **kwargs):
        refuse_cross_site()
        if current_user.is_authenticated and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        return view(*args, **kwargs)

    return csrf.exempt(checked)


def session_token_for_users() -> dict:
    """A public form's meta: the session token only for logged-in users (see public_form)."""
    return {} if current_user.is_authenticated else {"csrf": False}


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3+ wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


def account_rule(check, *args):
    """Run one of blog.accounts' checks as a form validator: its message, on the field."""
    try:
        return check(*args)
    except accounts.AccountError as error:
        raise ValidationError(str(error)) from None


_TEXT_FIELDS = (StringField, TextAreaField)  # and their kinds: email, search, URL…


class Form(FlaskForm):
    """Every form of the site, the plugins' too: text fields lose control characters
    before any validator or view reads them (passwords are kept as typed)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, _TEXT_FIELDS) and not issubclass(
                unbound_field.field_class, PasswordField
            ):
                filters = unbound_field.kwargs.get("filters", ())
                options["filters"] = [without_control_characters, *filters]
            return unbound_field.bind(form=form, **options)


# The upload forms' one "no file" rule; the editor applies it only when Upload is pressed.
IMAGE_REQUIRED = FileRequired("Choose an image file to upload.")


class LoginForm(Form):
    username = StringField("User name or email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Remember me")
    submit = SubmitField("Log in")


class NewPasswordForm(Form):
    password = PasswordField("New password", validators=[DataRequired()])
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Set password")

    def validate_password(self, field):
        account_rule(accounts.check_password, field.data)


class SetupForm(Form):
    site_title = StringField("Site title", validators=[DataRequired(), Length(max=200)])
    username = StringField("User name", validators=[DataRequired()])
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Create the site")

    def validate_username(self, field):
        account_rule(accounts.check_username, field.data)

    def validate_email(self, field):
        account_rule(accounts.check_email, field.data)

    def validate_password(self, field):
        account_rule(accounts.check_password, field.data)


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


BODY_TOO_LONG = f"{BODY_MAX:,} characters is the most a post may have. Split it into several posts."


class PostForm(Form):
    title = StringField(
        "Title",
        validators=[
            InputRequired("Give the post a title."),
            Length(max=300),
        ],
        filters=[lambda value: value.strip() if value else value],
    )
    body = TextAreaField("Body", validators=[Length(max=BODY_MAX, message=BODY_TOO_LONG)])
    excerpt = TextAreaField("Excerpt", validators=[Length(max=2000)])
    slug = StringField(
        "Slug",
        validators=[Optional(), Length(max=200)],
        description="The post's address: /slug/. Left empty, it is made from the title.",
    )
    categories = CheckboxListField("Categories", coerce=int, validate_choice=False)
    # Editors and admins (who manage categories) may add one without leaving the post.
    new_category = StringField(
        "New category", validators=[Length(max=200)], filters=[lambda v: v.strip() if v else v]
    )
    add_category = SubmitField("Add category")
    tags = StringField(
        "Tags", validators=[Length(max=1000)], description="Separate tags with commas."
    )
    status = SelectField(
        "Status",
        choices=choices(list(STATUS_LABELS.items())),
        default="draft",
        description="",  # the chosen status's own help (STATUS_HELP), set by the editor
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
    table_of_contents = BooleanField(
        "Show a table of contents",
        description="At the top of the post, made of its headings. "
        "Or write [toc] on a line of its own where it should go.",
    )
    # Pages only (WordPress's "Page Attributes"); the choices are set by the editor.
    parent_id = SelectField(
        "Parent page",
        coerce=int,
        validate_choice=False,  # editing.parent_for checks it, and says what is wrong
        default=0,
        description="A page under another lives at /parent/page/.",
    )
    menu_order = IntegerField(
        "Order",
        validators=[Optional(), NumberRange(min=-(2**31) + 1, max=2**31 - 1)],
        default=0,
        description="Where the page comes among its parent's pages: lower first.",
    )
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
        if current_user and current_user.is_authenticated and not current_user.may_publish:
            # A contributor's post goes to an editor, who publishes it.
            self.status.choices = choices((key, STATUS_LABELS[key]) for key in REVIEW_STATUSES)
            self.status.description = "An editor reviews pending posts and publishes them."
            self.publish.label.text = "Submit for review"

    def validate_version(self, field):
        if field.data and not field.data.isdigit():
            raise ValidationError("The editor sent a broken version number; reload the page.")

    def validate_title(self, field):
        if not field.data:
            raise ValidationError("Give the post a title.")


class UploadForm(Form):
    image = FileField("Image file", validators=[IMAGE_REQUIRED])
    alt_text = alt_text_field()
    submit = SubmitField("Upload")


class ButtonForm(Form):
    """Nothing but the CSRF token: for a button that acts (restore, discard, share)."""


class DeleteForm(ButtonForm):
    """A delete button's form."""

    submit = SubmitField("Delete")


class MenuItemForm(Form):
    """Add an item to the navigation menu: a page, post, category or tag, or any address."""

    target = SelectField(
        "Page, category or tag",
        validate_choice=False,  # blog.menus.add_item says when it is gone
        description="Or leave this empty and give an address below.",
    )
    url = StringField(
        "Address",
        validators=[Length(max=2000)],
        description="https://…, /a-path/ of this site, or # for a heading over its own items.",
    )
    label = StringField(
        "Label",
        validators=[Length(max=200)],
        description="Shown in the menu; empty: the page's title or the category's name.",
    )
    submit = SubmitField("Add to the menu")


class CategoryForm(Form):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=200)],
        filters=[lambda value: " ".join(value.split()) if value else value],
    )
    slug = StringField("Slug", validators=[Optional(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    parent = SelectField("Parent", coerce=int, default=0)
    submit = SubmitField("Save category")

    def __init__(self, *args, category: Category | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category  # the one being edited; None for a new one

    def others(self):
        query = db.select(Category.id)
        return query.where(Category.id != self.category.id) if self.category else query

    def validate_name(self, field):
        if db.session.scalar(self.others().where(Category.name == field.data)) is not None:
            raise ValidationError(f"A category named {field.data!r} exists already.")

    def validate_slug(self, field):
        slug = make_slug(field.data)
        if not slug:
            raise ValidationError("Use letters or digits in the slug.")
        if db.session.scalar(self.others().where(Category.slug == slug)) is not None:
            raise ValidationError(f"The slug {slug!r} is taken by another category.")


class UserForm(Form):
    username = StringField("User name", validators=[DataRequired()])
    display_name = StringField("Display name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[DataRequired()])
    role = SelectField("Role", choices=choices((role, role.title()) for role in ROLES))
    password = PasswordField("Password", description="Leave empty to keep.")
    submit = SubmitField("Save user")

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account  # the User being edited; None for a new one
        self.account_id = account.id if account else None

    def validate_username(self, field):
        account_rule(accounts.check_username, field.data, self.account_id)

    def validate_email(self, field):
        account_rule(accounts.check_email, field.data, self.account_id)

    def validate_role(self, field):
        account_rule(accounts.check_role, field.data, self.account)

    def validate_password(self, field):
        if field.data or self.account is None:
            if not field.data:
                raise ValidationError("Give the new account a password.")
            account_rule(accounts.check_password, field.data)


class ProfileForm(Form):
    display_name = StringField("Display name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[DataRequired()])
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password to save.")]
    )
    new_password = PasswordField("New password", description="Leave empty to keep.")
    confirm = PasswordField(
        "New password again",
        validators=[EqualTo("new_password", message="The new passwords differ.")],
    )
    submit = SubmitField("Save profile")

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account  # whose profile: the logged-in user

    def validate_email(self, field):
        account_rule(accounts.check_email, field.data, self.account.id)

    def validate_current_password(self, field):
        if not self.account.check_password(field.data):
            raise ValidationError("That is not your current password.")

    def validate_new_password(self, field):
        if field.data:
            account_rule(accounts.check_password, field.data)


class SettingsForm(Form):
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


class TwoFactorCodeForm(Form):
    code = StringField(
        "Code", validators=[DataRequired("Type the code."), Length(max=20)],
        description="6 digits from the app, or a recovery code (xxxxx-xxxxx).",
    )  # fmt: skip
    submit = SubmitField("Log in")


class SetupCodeForm(Form):
    code = StringField(
        "Code from the app", validators=[DataRequired("Type the code."), Length(max=20)]
    )
    submit = SubmitField("Turn on two-factor login")


class PasswordCheckForm(Form):
    """Asks for the password again before a change to how the account logs in."""

    password = PasswordField(
        "Your password", validators=[DataRequired("Type your password."), Length(max=200)]
    )


class ForgotPasswordForm(Form):
    username = StringField("User name or email", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Email me a link")
