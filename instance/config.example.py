# Copy to instance/config.py and edit. Environment variables SURVEY_API_<KEY> override these.
# SECRET_KEY = "a long random string"        # generated into instance/secret_key when absent
# DATABASE = "/var/lib/survey-api/survey.db"  # default: <instance>/survey.db
# BLOB_DIR = "/var/lib/survey-api/blobs"      # default: <instance>/blobs
# ACCESS_TOKEN_SECONDS = 3600
# REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
# REFRESH_REUSE_SECONDS = 60                  # a refresh retried within this is not reuse
# LOGIN_MAX_FAILURES = 10                     # failed logins per username, per window
# LOGIN_MAX_FAILURES_PER_ADDRESS = 100        # failed logins per client address, per window
# LOGIN_WINDOW_SECONDS = 900
