# The clinic's details: how a service is paid for, where the doctor receives, districts.

## Payment (lists, the summary, the ticket, cards). $price: whole roubles, already grouped.

payment-oms = по полису ОМС
payment-paid = платно, { $price } ₽
payment-paid-unpriced = платно
