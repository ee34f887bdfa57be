"""Needs attention: /attention/ (clinic/urls.py includes this)."""

from django.urls import path

from . import views

app_name = "attention"

urlpatterns = [
    path("", views.attention_list, name="list"),
    path("acknowledge/", views.attention_acknowledge, name="acknowledge"),
]
