import * as PosLoyalty from "@pos_loyalty/../tests/tours/utils/pos_loyalty_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import { registry } from "@web/core/registry";

// A club member at the till pays member prices (10 % off) and earns points.
registry.category("web_tour.tours").add("RetentionMemberAtTheTill", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Member at the Till"),
            ProductScreen.addOrderline("Whiteboard Pen", "1"),
            PosLoyalty.orderTotalIs("9"),
            PosLoyalty.finalizeOrder("Cash", "9"),
        ].flat(),
});
