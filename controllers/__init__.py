from . import main
from . import channel
from . import device
