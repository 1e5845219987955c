# The clinic's details: how a service is paid for, where the doctor receives, districts.

## Payment (lists, the summary, the ticket, cards). $price: whole roubles, already grouped.

payment-oms = по полису ОМС
payment-paid = платно, { $price } ₽
payment-paid-unpriced = платно

## The booking dialogue

services-paid-note = Услуги с ценой — платные; остальные — бесплатно, по полису ОМС.
# $district: as the registry writes it, e.g. «5» or «12А»
district-label = участок { $district }
doctors-by-district-note = Это услуга по участкам: выберите врача своего участка. Участок проверим, когда вы введёте данные полиса.
summary-room = Место приёма: { $room }
summary-payment = Оплата: { $payment }
visit-notes = <i>{ $notes }</i>

## District services: a booking refused for the district. $org: the polyclinic's short name.

district-not-attached =
    Записаться на эту услугу могут только пациенты, прикреплённые к организации «{ $org }»: она оказывается по участкам. По данным регистратуры вы к ней не прикреплены.
    Чтобы прикрепиться, обратитесь в регистратуру с паспортом и полисом ОМС: { $phone }. На услуги не по участкам можно записаться и без прикрепления.
district-unknown = Вы прикреплены к организации «{ $org }», но ваш участок в регистратуре не указан, поэтому записаться к участковому врачу онлайн нельзя. Позвоните в регистратуру: { $phone }.
# $doctor_district: the chosen doctor's district; $own: the patient's
district-other = Запись не на свой участок: этот врач принимает пациентов участка { $doctor_district }, а вы прикреплены к участку { $own }.
district-own-doctors = Выберите врача своего участка и время; данные полиса вводить заново не нужно:
district-no-doctor = У вашего участка сейчас нет врача с записью онлайн. Позвоните в регистратуру: { $phone }.
