"""The push settings: ``bus_mobile.<key>`` system parameters and their
defaults, read once per cron run."""

# Integer settings and defaults; a bad, non-positive or absurd value (over
# MAX_INT_SETTING) means the default.
MAX_INT_SETTING = 2**31 - 1
INT_SETTINGS = {
    "push_ttl_s": 3600,  # older pushes are dropped, not sent late
    "push_max_attempts": 5,
    "push_retry_base_s": 30,  # first retry delay; doubled at each attempt
    "push_batch_size": 500,  # pushes claimed per cron call
    "push_concurrency": 8,  # parallel provider requests
    "push_timeout_s": 10,  # per HTTP request
    "push_batch_time_s": 60,  # no request is started later in a batch
    "push_receipt_delay_s": 900,  # Expo: receipts are ready after ~15 min
    "push_log_days": 30,  # finished rows are deleted after this
}
TEXT_SETTINGS = {
    "push_expo_base_url": "https://exp.host/--/api/v2",
    "push_expo_access_token": "",
    "push_fcm_base_url": "https://fcm.googleapis.com",
    "push_fcm_service_account": "",
    "push_fcm_service_account_file": "",
    "push_fcm_project_id": "",
    "push_data_only": "",
}


def read_settings(get_param):
    """The settings dict, from ``get_param(name, default)`` (the system
    parameters' reader)."""
    settings = {}
    for key, default in INT_SETTINGS.items():
        try:
            value = int(get_param(f"bus_mobile.{key}", default))
        except ValueError:
            value = default
        # 10**400 would overflow floats and PostgreSQL's integers.
        settings[key] = value if 0 < value <= MAX_INT_SETTING else default
    for key, default in TEXT_SETTINGS.items():
        settings[key] = (get_param(f"bus_mobile.{key}") or default).strip()
    settings["push_data_only"] = settings["push_data_only"].lower() in ("1", "true", "yes")
    return settings
