"""Business hours are edited as day rows with time fields (admin's SLA policy form), not as raw JSON."""

import pytest

from tests.factories import UserFactory
from tickets.models import SlaPolicy
from tickets.sla.forms import SlaPolicyForm

pytestmark = pytest.mark.django_db


def form_data(**hours):
    data = {"name": "Suporte", "warning_percent": "75", "time_zone": "America/Sao_Paulo", "is_active": "on"}
    return {**data, **hours}


def test_day_rows_become_the_calendar_the_clocks_use():
    form = SlaPolicyForm(
        form_data(
            business_hours_mon_open="1",
            business_hours_mon_0_start="08:00",
            business_hours_mon_0_end="12:00",
            business_hours_mon_1_start="13:00",
            business_hours_mon_1_end="18:00",
            business_hours_sat_open="1",
            business_hours_sat_0_start="09:00",
            business_hours_sun_0_start="10:00",  # typed, but Sunday is not ticked open
        )
    )
    assert form.is_valid(), form.errors
    policy = form.save()
    assert policy.business_hours == {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "sat": [["09:00", "24:00"]]}


def test_around_the_clock_stores_an_empty_calendar_and_a_bad_row_is_refused():
    assert SlaPolicyForm(form_data(business_hours_always="1")).is_valid()
    wrong = SlaPolicyForm(
        form_data(business_hours_tue_open="1", business_hours_tue_0_start="18:00", business_hours_tue_0_end="09:00")
    )
    assert not wrong.is_valid()
    assert "business_hours" in wrong.errors
    empty_day = SlaPolicyForm(form_data(business_hours_wed_open="1"))
    assert not empty_day.is_valid()


def test_the_admin_page_shows_time_fields_for_each_day(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    policy = SlaPolicy.objects.create(name="Suporte", business_hours={"fri": [["08:00", "17:00"]]})
    client.force_login(admin)
    page = client.get(f"/admin/tickets/slapolicy/{policy.pk}/change/").content.decode()
    assert 'type="time" name="business_hours_fri_0_start" value="08:00"' in page
    assert 'name="business_hours_fri_open" value="1"' in page and "checked" in page
    assert "{&quot;fri&quot;" not in page  # no raw JSON
