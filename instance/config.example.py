# Copy to instance/config.py and edit. Environment variables SURVEY_API_<KEY> override these.
# SECRET_KEY = "a long random string"        # generated into instance/secret_key when absent
# DATABASE = "/var/lib/survey-api/survey.db"  # default: <instance>/survey.db
# BLOB_DIR = "/var/lib/survey-api/blobs"      # default: <instance>/blobs
# ACCESS_TOKEN_SECONDS = 3600
# REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
# LOGIN_MAX_FAILURES = 10                     # per username and per address, per window
# LOGIN_WINDOW_SECONDS = 900
