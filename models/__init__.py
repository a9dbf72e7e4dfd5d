from . import ir_config_parameter
from . import bus_mobile_channel
from . import bus_mobile_channel_member
from . import bus_mobile_message
from . import bus_mobile_device
from . import ir_websocket
from . import res_partner
from . import res_users
