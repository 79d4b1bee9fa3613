"""The server-rendered pages of sign-in: the sign-in form, a short notice, the admin page. Plain
HTML in pmdesk's dark colours with the bundled font; inline CSS only, no script."""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup

STYLE = """
:root { --bg:#0b0e13; --panel:#141922; --text:#e8edf4; --muted:#8b96a8; --ok:#2ecc71;
  --watch:#f5c542; --danger:#ff4d4f; --line:#2a3342; }
html, body { margin:0; background:var(--bg); color:var(--text);
  font-family:"pmdesk Sans","DejaVu Sans",sans-serif; font-size:18px; line-height:1.45; }
main { max-width:26rem; margin:12vh auto 2rem; padding:2rem 2.2rem; background:var(--panel);
  border-radius:0.6rem; }
main.wide { max-width:46rem; }
h1 { margin:0 0 0.2rem; font-size:1.8rem; letter-spacing:0.05em; }
h2 { font-size:1.15rem; margin:1.6rem 0 0.5rem; }
p { margin:0.4rem 0 1rem; }
.lead, .note { color:var(--muted); }
.note { font-size:0.85rem; margin-top:1.4rem; }
label { display:block; margin:0.9rem 0 0.3rem; color:var(--muted); }
input[type=text], input[type=password] { box-sizing:border-box; width:100%; padding:0.55rem 0.7rem;
  font:inherit; color:var(--text); background:var(--bg); border:1px solid var(--line);
  border-radius:0.35rem; }
input:focus, button:focus { outline:3px solid var(--watch); outline-offset:1px; }
button { font:inherit; font-weight:700; color:#0b0e13; background:var(--ok); border:0;
  border-radius:0.35rem; padding:0.55rem 1.3rem; cursor:pointer; }
form.signin button { margin-top:1.3rem; width:100%; }
button.danger { background:var(--danger); padding:0.25rem 0.8rem; font-size:0.9rem; }
button.plain { background:none; color:var(--text); border:1px solid var(--line); }
.msg { padding:0.6rem 0.8rem; border-radius:0.35rem; margin:1rem 0; font-weight:700; }
.msg-error { background:#3a1416; color:#ffb3b4; border-left:0.3rem solid var(--danger); }
.msg-wait { background:#3a3010; color:#ffe08a; border-left:0.3rem solid var(--watch); }
.msg-info { background:#10301f; color:#a8f0c6; border-left:0.3rem solid var(--ok); }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:0.35rem 0.5rem; border-bottom:1px solid var(--line); }
th { color:var(--muted); font-weight:400; }
td form { margin:0; }
code { color:var(--watch); }
a { color:var(--text); }
.top { display:flex; justify-content:space-between; align-items:baseline; gap:1rem; }
"""


def page(title: str, body: Markup, wide: bool = False) -> str:
    return str(
        Markup(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>{title}</title>"
            '<link rel="stylesheet" href="/assets/fonts/pmdesk-sans.css">'
            "<style>{style}</style></head><body><main{cls}>{body}</main></body></html>"
        ).format(
            title=title,
            style=Markup(STYLE),
            cls=Markup(' class="wide"') if wide else "",
            body=body,
        )
    )


def message(kind: str, text: str) -> Markup:
    """``kind``: error, wait or info."""
    role = "alert" if kind != "info" else "status"
    return Markup('<p class="msg msg-{}" role="{}">{}</p>').format(kind, role, text)


def signin_page(csrf: str, next_url: str, name: str = "", notice: Markup | None = None) -> str:
    body = Markup(
        '<h1>pmdesk</h1><p class="lead">Sign in to the desk\'s risk monitor.</p>{notice}'
        '<form class="signin" method="post" action="/login">'
        '<input type="hidden" name="csrf" value="{csrf}">'
        '<input type="hidden" name="next" value="{next}">'
        '<label for="name">Name</label>'
        '<input type="text" id="name" name="name" value="{name}" autocomplete="username" '
        'autocapitalize="none" spellcheck="false" maxlength="64" required{focus_name}>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" autocomplete="current-password" '
        'maxlength="1024" required{focus_password}>'
        '<button type="submit">Sign in</button></form>'
        '<p class="note">A wall screen signs in by its own link: '
        "<code>pmdesk screen add NAME</code>.</p>"
    ).format(
        notice=notice or "",
        csrf=csrf,
        next=next_url,
        name=name,
        focus_name=Markup(" autofocus") if not name else "",
        focus_password=Markup(" autofocus") if name else "",
    )
    return page("pmdesk — sign in", body)


def notice_page(
    title: str, notice: Markup, link: str = "/login", link_text: str = "Sign in"
) -> str:
    body = Markup('<h1>pmdesk</h1>{notice}<p><a href="{link}">{text}</a></p>').format(
        notice=notice, link=link, text=link_text
    )
    return page(f"pmdesk — {title}", body)


def _button_form(action: str, csrf: str, name: str, label: str, confirm_text: str) -> Markup:
    return Markup(
        '<form method="post" action="{action}">'
        '<input type="hidden" name="csrf" value="{csrf}">'
        '<input type="hidden" name="name" value="{name}">'
        '<button class="danger" type="submit" aria-label="{confirm}">{label}</button></form>'
    ).format(action=action, csrf=csrf, name=name, label=label, confirm=confirm_text)


def admin_page(
    me: str,
    csrf: str,
    users: Iterable[tuple[str, str]],
    screens: Iterable[str],
    notice: Markup | None = None,
) -> str:
    user_rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            name,
            role,
            "you"
            if name == me
            else _button_form("/admin/users/remove", csrf, name, "Remove", f"Remove {name}"),
        )
        for name, role in users
    )
    screen_rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td></tr>").format(
            name, _button_form("/admin/screens/revoke", csrf, name, "Revoke", f"Revoke {name}")
        )
        for name in screens
    ) or Markup('<tr><td colspan="2">No screens.</td></tr>')
    body = Markup(
        '<div class="top"><h1>pmdesk users</h1><a href="/">Back to the desk</a></div>{notice}'
        '<h2>Users</h2><table id="users"><tr><th>Name</th><th>Role</th><th></th></tr>{users}'
        "</table>"
        '<h2>Wall screens</h2><table id="screens"><tr><th>Screen</th><th></th></tr>{screens}'
        "</table>"
        '<p class="note">Removing a user or revoking a screen ends its sessions at its next '
        "request. Add users and screens, or change a role, on the server: "
        "<code>pmdesk user add NAME --role viewer|operator|admin</code>, "
        "<code>pmdesk screen add NAME</code>.</p>"
    ).format(notice=notice or "", users=user_rows, screens=screen_rows)
    return page("pmdesk — users", body, wide=True)
