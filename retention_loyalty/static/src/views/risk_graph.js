import { registry } from "@web/core/registry";
import { graphView } from "@web/views/graph/graph_view";
import { GraphRenderer } from "@web/views/graph/graph_renderer";

// Risk levels in traffic-light colours, whatever the position of the series.
const RISK_COLORS = { low: "#28a745", medium: "#ffc107", high: "#dc3545", lost: "#6c757d" };

export class RetentionRiskGraphRenderer extends GraphRenderer {
    getBarChartData() {
        const data = super.getBarChartData();
        const field = this.model.metaData.fields.risk_level;
        const colorByLabel = Object.fromEntries(
            (field?.selection || []).map(([key, label]) => [label, RISK_COLORS[key]])
        );
        for (const dataset of data.datasets) {
            const color = colorByLabel[dataset.label];
            if (color) {
                dataset.backgroundColor = color;
            }
        }
        return data;
    }
}

registry.category("views").add("retention_risk_graph", {
    ...graphView,
    Renderer: RetentionRiskGraphRenderer,
});
