from . import ir_config_parameter
from . import res_users
