import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { formatInteger, formatMonetary } from "@web/views/fields/formatters";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

/** The Retention home: the few figures a manager checks each morning, each
 * opening the list it counts. The figures come from `retention.dashboard`. */
export class RetentionHome extends Component {
    static template = "retention_loyalty.RetentionHome";
    static components = { Layout };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ tiles: [], currencyId: false, company: "" });
        useSetupAction();
        onWillStart(() => this.load());
    }

    async load() {
        const data = await this.orm.call("retention.dashboard", "get_tiles", []);
        Object.assign(this.state, {
            tiles: data.tiles,
            currencyId: data.currency_id,
            company: data.company,
        });
    }

    format(value, kind) {
        if (kind === "monetary") {
            return formatMonetary(value || 0, { currencyId: this.state.currencyId, digits: [16, 0] });
        }
        if (kind === "percent") {
            return `${formatInteger(Math.round(value || 0))} %`;
        }
        return formatInteger(Math.round(value || 0));
    }

    open(tile) {
        this.actionService.doAction(tile.action);
    }
}

registry.category("actions").add("retention_home", RetentionHome);
