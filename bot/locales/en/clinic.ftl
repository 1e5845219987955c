# The clinic's details: how a service is paid for, where the doctor receives, districts.

## Payment (lists, the summary, the ticket, cards). $price: whole roubles, already grouped.

payment-oms = covered by the OMS policy
payment-paid = paid, { $price } ₽
payment-paid-unpriced = paid
