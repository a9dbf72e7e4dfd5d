from . import controllers
from . import models
from . import websocket_lifecycle
