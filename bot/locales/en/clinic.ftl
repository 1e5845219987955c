# The clinic's details: how a service is paid for, where the doctor receives, districts.

## Payment (lists, the summary, the ticket, cards). $price: whole roubles, already grouped.

payment-oms = covered by the OMS policy
payment-paid = paid, { $price } ₽
payment-paid-unpriced = paid

## The booking dialogue

services-paid-note = Services with a price are paid; the others are free under the OMS policy.
# $district: as the registry writes it, e.g. «5» or «12А»
district-label = district { $district }
doctors-by-district-note = This service goes by districts: choose your own district's doctor. The district is checked once you enter your policy details.
summary-room = Where: { $room }
summary-payment = Payment: { $payment }
visit-notes = <i>{ $notes }</i>

## District services: a booking refused for the district. $org: the polyclinic's short name.

district-not-attached =
    Only patients attached to «{ $org }» can book this service: it goes by districts. The registry has no record of your attachment there.
    To attach, visit the registry with your passport and OMS policy: { $phone }. Services that do not go by districts can be booked without it.
district-unknown = You are attached to «{ $org }», but the registry has no district for you, so a district doctor can't be booked online. Please call the registry: { $phone }.
# $doctor_district: the chosen doctor's district; $own: the patient's
district-other = Not your district: this doctor receives the patients of district { $doctor_district }, and you are attached to district { $own }.
district-own-doctors = Choose your own district's doctor and a time; no need to enter your policy details again:
district-no-doctor = Your district has no doctor open for online booking now. Please call the registry: { $phone }.
