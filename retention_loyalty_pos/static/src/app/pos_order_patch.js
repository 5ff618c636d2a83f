import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { patch } from "@web/core/utils/patch";

patch(PosOrder.prototype, {
    /** A club member gets their member pricelist, when the till has it. */
    updatePricelistAndFiscalPosition(newPartner) {
        super.updatePricelistAndFiscalPosition(...arguments);
        const memberPricelist = newPartner?.retention_pos_pricelist_id;
        if (memberPricelist && this.models["product.pricelist"].get(memberPricelist.id)) {
            this.set_pricelist(memberPricelist);
        }
    },
});
