{
    "name": "Mobile Bus",
    "version": "18.0.1.0.0",
    "summary": "Real-time messaging and per-device presence for mobile apps",
    "category": "Productivity/Discuss",
    "author": "bus_mobile developers",
    "website": "https://github.com/bus-mobile/bus_mobile",
    "license": "LGPL-3",
    "depends": ["bus"],
    "external_dependencies": {"python": []},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_config_parameter.xml",
    ],
    "installable": True,
    "application": True,
}
