from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from patients.audit import client_ip
from patients.sections import today_page

from . import selectors, services
from .forms import StaffCreateForm, StaffUpdateForm

User = get_user_model()


@login_required
def today(request):
    """The landing page: the sections the user's permissions allow (patients/sections.py)."""
    return render(request, "clinic/today.html", {"sections": today_page.visible(request)})


def _get_staff_for_user(request_user, user_id: int):
    """The access-checked getter for staff accounts: managers only, never superusers."""
    return get_object_or_404(User.objects.filter(is_superuser=False), pk=user_id)


@login_required
@permission_required("auth.view_user", raise_exception=True)
def staff_list(request):
    staff = list(selectors.staff_list())
    locked = selectors.staff_locked_out_usernames([user.username for user in staff])
    rows = [(user, selectors.staff_role(user), user.username in locked) for user in staff]
    return render(request, "clinic/staff_list.html", {"rows": rows})


@login_required
@permission_required("auth.add_user", raise_exception=True)
@require_http_methods(["GET", "POST"])
def staff_create(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.staff_create(acting_user=request.user, **form.cleaned_data)
        messages.success(
            request, f"Account {user.username} created as {form.cleaned_data['role']}."
        )
        return redirect("staff_list")
    return render(request, "clinic/staff_form.html", {"form": form, "title": "New staff account"})


@login_required
@permission_required("auth.change_user", raise_exception=True)
@require_http_methods(["GET", "POST"])
def staff_edit(request, user_id: int):
    user = _get_staff_for_user(request.user, user_id)
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": selectors.staff_role(user),
        "is_active": user.is_active,
    }
    form = StaffUpdateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if user == request.user and (not data["is_active"] or data["role"] != initial["role"]):
            form.add_error(None, "You cannot deactivate your own account or change your own role.")
        else:
            services.staff_update(user=user, acting_user=request.user, **data)
            messages.success(request, f"Account {user.username} saved.")
            return redirect("staff_list")
    return render(
        request,
        "clinic/staff_form.html",
        {"form": form, "title": f"Edit {user.get_full_name() or user.username}", "staff": user},
    )


@login_required
@permission_required("auth.change_user", raise_exception=True)
@require_POST
def staff_unlock(request, user_id: int):
    user = _get_staff_for_user(request.user, user_id)
    cleared = services.staff_unlock(user=user, acting_user=request.user, ip=client_ip(request))
    if cleared:
        messages.success(request, f"Account {user.username} unlocked: they can sign in again.")
    else:
        messages.info(request, f"Account {user.username} was not locked out.")
    return redirect("staff_list")


@login_required
@permission_required("auth.change_user", raise_exception=True)
@require_POST
def staff_password_reset(request, user_id: int):
    user = _get_staff_for_user(request.user, user_id)
    try:
        services.staff_password_reset_send(
            user=user, acting_user=request.user, ip=client_ip(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"A password-reset link was emailed to {user.email}.")
    return redirect("staff_list")


class PasswordResetView(auth_views.PasswordResetView):
    """ "Forgot password?": the same redirect and page whatever the address (see
    services.password_reset_request), so the page never tells who has an account."""

    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        services.password_reset_request(
            email=form.cleaned_data["email"], ip=client_ip(self.request)
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        services.password_reset_complete(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            ip=client_ip(self.request),
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())
