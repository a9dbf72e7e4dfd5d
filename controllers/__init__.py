from . import main
from . import channel
from . import device
from . import playground
