from . import metrics
from . import controllers
from . import models
