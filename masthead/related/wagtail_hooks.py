"""Newsroom hooks: the suggestions panel's Pin and Block buttons."""

from wagtail import hooks

from masthead.related.panels import ACTIONS, pin_or_block


@hooks.register("before_edit_page")
def apply_pin_or_block(request, page):
    """Turn a Pin / Block click in the suggestions panel into a row of the Related stories inline.

    The rest of the request is the page's ordinary edit form, saved as a draft.
    A bad target id leaves the form data unchanged.
    """
    if request.method != "POST":
        return None
    for action in ACTIONS:
        value = request.POST.get(f"related-{action}")
        if value and value.isdigit():
            request.POST = pin_or_block(request.POST, action=action, target_id=int(value))
            break
    return None
