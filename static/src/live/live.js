/** @odoo-module **/
// Mobile Bus > Live: the figures of every node for this database, updated
// over the bus: each node's socket process stores a snapshot every few
// seconds and sends bus_mobile/metrics to the administrators; the view then
// asks the server for the sum (bus_mobile.metrics.snapshot).
import { Component, onMounted, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

const CHART = { width: 720, height: 180, pad: 28 };
// Snapshots of several nodes arrive together: one refresh for them.
const REFRESH_DELAY_MS = 300;

export class BusMobileLive extends Component {
    static template = "bus_mobile.Live";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.busService = useService("bus_service");
        this.state = useState({ data: null, error: null, updates: 0 });
        this.onSnapshot = () => this.scheduleRefresh();
        onWillStart(() => this.refresh());
        onMounted(() => {
            this.busService.subscribe("bus_mobile/metrics", this.onSnapshot);
            this.busService.start();
        });
        onWillUnmount(() => {
            this.busService.unsubscribe("bus_mobile/metrics", this.onSnapshot);
            clearTimeout(this.timer);
        });
    }

    scheduleRefresh() {
        if (!this.timer) {
            this.timer = setTimeout(() => {
                this.timer = null;
                this.refresh();
            }, REFRESH_DELAY_MS);
        }
    }

    async refresh() {
        try {
            this.state.data = await this.orm.silent.call(
                "bus_mobile.metrics.snapshot",
                "bus_mobile_live_data",
                []
            );
            this.state.error = null;
            this.state.updates++;
        } catch (error) {
            this.state.error = error.data?.message || error.message || String(error);
        }
    }

    get platforms() {
        return Object.entries(this.state.data?.sockets_by_platform || {}).sort();
    }

    format(value, unit = "") {
        return value === null || value === undefined ? "–" : `${value}${unit}`;
    }

    /** SVG points of one history series, scaled to its own maximum. */
    line(key) {
        const points = this.state.data?.history || [];
        const max = Math.max(1, ...points.map((p) => p[key] || 0));
        const { width, height, pad } = CHART;
        const step = (width - 2 * pad) / Math.max(1, points.length - 1);
        return points
            .map((p, i) => {
                const x = pad + i * step;
                const y = height - pad - ((p[key] || 0) / max) * (height - 2 * pad);
                return `${x.toFixed(1)},${y.toFixed(1)}`;
            })
            .join(" ");
    }

    peak(key) {
        const points = this.state.data?.history || [];
        return Math.max(0, ...points.map((p) => p[key] || 0));
    }

    get chart() {
        return CHART;
    }
}

registry.category("actions").add("bus_mobile.live", BusMobileLive);
